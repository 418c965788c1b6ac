"""Storage helpers shared by every package that has tables; imports nothing of ours."""
