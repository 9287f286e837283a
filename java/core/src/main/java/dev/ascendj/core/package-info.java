/**
 * The backend-independent core of AscendJ: {@link dev.ascendj.core.DType dtypes},
 * {@link dev.ascendj.core.Shape shapes} and {@link dev.ascendj.core.Tensor tensors}; the device
 * API modelled on ACL's runtime ({@link dev.ascendj.core.Device}, {@link dev.ascendj.core.Stream},
 * {@link dev.ascendj.core.Event}, {@link dev.ascendj.core.Buffer}); the kernel SPI
 * ({@link dev.ascendj.core.Ops}, found through {@link dev.ascendj.core.Backends}); collectives
 * ({@link dev.ascendj.core.Communicator}); and {@link dev.ascendj.core.Scope scopes} that close
 * whatever was created inside them. Its {@code io} package holds the strict JSON/YAML reader and
 * the atomic file writer that every other module uses.
 */
package dev.ascendj.core;
