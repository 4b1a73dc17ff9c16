"""Delivery routes for customer notifications: HTTP gateways (SMS, WeChat template messages) and SMTP."""
