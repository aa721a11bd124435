"""Publishing: compose once for several networks, schedule, approve, send through the outbox."""
