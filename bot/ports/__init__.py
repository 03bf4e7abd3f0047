"""bot/ports"""
