// The case-editor script.
