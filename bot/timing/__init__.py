"""bot/timing"""
