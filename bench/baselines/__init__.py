"""Hand-written minimal programs Satu Pintu is measured against, in the same run."""
