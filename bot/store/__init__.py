"""bot/store"""
