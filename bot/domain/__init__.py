"""bot/domain"""
