/** The {@code ascendj} command line. */
package dev.ascendj.cli;
