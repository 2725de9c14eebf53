from zenml import pipeline

from steps.data import load_customers, make_features, split_dataset, validate_features
from steps.model import evaluate_model, train_model


@pipeline(name="churn_training")
def training_pipeline():
    customers = load_customers()
    features = make_features(customers)
    checked = validate_features(features)
    train_set, test_set = split_dataset(checked)
    model = train_model(train_set)
    evaluate_model(model, test_set)
