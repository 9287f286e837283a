/** LLaMA2 model: configuration, layers, LoRA, Hugging Face formats. */
package dev.ascendj.model;
