"""Helpers of the casework benchmark (``benchmarks/casework.py``): the database work and the staff's HTTP client."""
