/**
 * Extraction with a model: prompt with the task's template, decode (in batches, over corpora of any
 * size, cut into passages that fit the model), read the answer robustly, and stream results that a
 * later run can resume.
 */
package dev.ascendj.data.extract;
