"""torch.utils: data loading and hook handles (ember.utils.data is imported by ember/__init__)."""
