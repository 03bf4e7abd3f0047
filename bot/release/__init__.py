"""bot/release"""
