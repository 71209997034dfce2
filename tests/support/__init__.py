"""Test support: a scripted phone, a flaky network proxy and a real server process."""
