"""denoise"""
