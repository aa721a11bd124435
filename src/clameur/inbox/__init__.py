"""The shared inbox: conversations, triage rules, priority, SLA, assignment, replies."""
