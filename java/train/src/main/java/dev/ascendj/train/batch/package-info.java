/**
 * Training batches: the one batch type ({@link dev.ascendj.train.batch.Batch}), where a run's
 * batches come from ({@link dev.ascendj.train.batch.BatchSource}) and where it is in them
 * ({@link dev.ascendj.train.batch.DataPosition}, saved in checkpoints), and the loader that turns
 * instruction records ({@link dev.ascendj.data.InstructionRecord}) into padded or packed rows
 * ({@link dev.ascendj.train.batch.InstructionLoader}).
 */
package dev.ascendj.train.batch;
