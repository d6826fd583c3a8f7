"""Responsible-party classification for Chinese e-commerce disputes: every stage as a plain function."""
