"""Reads Collector file exports and turns them into results, traces, metric_data and a leaderboard row."""
