"""Qt widgets other than plots: the control panel and dialogs."""
