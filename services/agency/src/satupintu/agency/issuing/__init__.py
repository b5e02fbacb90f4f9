"""Issued documents: the PDF an agency's decision produces, its signing keys and its PAdES signature."""
