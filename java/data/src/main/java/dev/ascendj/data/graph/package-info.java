/** Extraction output merged into one de-duplicated knowledge graph, written as tables a graph tool reads. */
package dev.ascendj.data.graph;
