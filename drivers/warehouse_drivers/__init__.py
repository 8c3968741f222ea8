"""Hardware drivers and pure decoders: bytes, frames and tags in, reads out."""
