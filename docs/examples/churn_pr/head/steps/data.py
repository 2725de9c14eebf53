from typing import Tuple

import pandas as pd
from typing_extensions import Annotated
from zenml import step


@step(enable_cache=False)
def load_customers(source: str = "warehouse://crm/customers") -> pd.DataFrame:
    return pd.read_parquet(source)


@step
def make_features(customers: pd.DataFrame, min_tenure_days: int = 30) -> Annotated[pd.DataFrame, "features"]:
    return customers[customers["tenure_days"] >= min_tenure_days]


@step
def validate_features(features: pd.DataFrame) -> pd.DataFrame:
    if features.isna().any().any():
        raise ValueError("features contain missing values")
    return features


@step
def split_dataset(
    features: pd.DataFrame, test_size: float = 0.2
) -> Tuple[Annotated[pd.DataFrame, "train_set"], Annotated[pd.DataFrame, "test_set"]]:
    cut = int(len(features) * (1 - test_size))
    return features[:cut], features[cut:]
