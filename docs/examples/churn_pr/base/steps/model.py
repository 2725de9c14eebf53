import pandas as pd
from sklearn.linear_model import LogisticRegression
from zenml import step


@step
def train_model(train_set: pd.DataFrame, learning_rate: float = 0.01) -> LogisticRegression:
    model = LogisticRegression(C=1.0 / learning_rate)
    model.fit(train_set.drop(columns=["churned"]), train_set["churned"])
    return model


@step
def evaluate_model(model: LogisticRegression, test_set: pd.DataFrame) -> float:
    predictions = model.predict(test_set.drop(columns=["churned"]))
    return float((predictions == test_set["churned"]).mean())


@step
def report(accuracy: float) -> None:
    print("accuracy", accuracy)
