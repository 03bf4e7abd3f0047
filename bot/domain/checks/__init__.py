"""bot/domain/checks"""
