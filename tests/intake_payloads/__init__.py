"""Realistic inbound emails and what they should parse back to (made-up people and data)."""
