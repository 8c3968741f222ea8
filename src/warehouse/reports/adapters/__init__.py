"""The queries behind the reports."""
