"""Output: the formatter protocol every command renders through (`output.base`), the JSON
documents' one writer and their published schemas (`output.documents`)."""
