"""Accounts (账号管理) run by the campaign office: users, their passwords and status."""
