"""bot/notify"""
