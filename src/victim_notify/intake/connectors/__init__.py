"""Connectors: one module for each kind of source an agency's RMS or CAD can feed us from.
Each turns what it reads into `IncomingRecord`s in the documented record shape, so every
source goes through the same validation, quarantine and storage (`intake.store.ingest`)."""
