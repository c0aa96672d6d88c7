"""visualizations."""
