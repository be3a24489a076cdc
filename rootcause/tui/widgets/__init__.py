"""The app's widgets: conversation blocks, the hypotheses board, the evidence, config and
report tabs, the prompt with its completion menu, the header and terminal plots."""
