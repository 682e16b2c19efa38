"""Renderers: plain text when piped (golden-testable), rich renderables on a terminal."""
