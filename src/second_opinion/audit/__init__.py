"""The signal-mix audit: how well quality scores agree with subjective ratings."""
