"""The exceptions queue: everything the floor did that did not match what was expected, and how a
manager resolves it."""
