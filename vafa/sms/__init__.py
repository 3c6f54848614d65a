"""SMS transport: the outbox table, gateways (outbox, Kavenegar) and the delivery worker."""
