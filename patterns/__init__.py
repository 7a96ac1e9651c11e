"""Default rule files of doc-checker (data only; see README.md in this folder)."""
