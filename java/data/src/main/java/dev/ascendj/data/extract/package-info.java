/** Extraction with a model: prompt with the task's template, decode, read the answer robustly. */
package dev.ascendj.data.extract;
