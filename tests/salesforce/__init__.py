"""Salesforce integration tests, against a local HTTPS stand-in for Salesforce."""
