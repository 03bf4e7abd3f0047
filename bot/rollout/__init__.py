"""bot/rollout"""
