"""What mlgitops reads from and asks of a live cluster, through the `kubernetes` client (`client.py`)."""
