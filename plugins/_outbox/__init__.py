"""Outbox delivery that does not depend on NoneBot being started: the sending limits and the dispatcher."""
