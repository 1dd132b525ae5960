"""What the run tells people: files in output-dir, the step summary, the plan printout."""
