"""The processing pipeline: claim, read, extract, match, decide, apply, notify, report."""
