from zenml import pipeline

from steps.data import build_features, load_customers, split_dataset
from steps.model import evaluate_model, report, train_model


@pipeline(name="churn_training")
def training_pipeline():
    customers = load_customers()
    features = build_features(customers)
    train_set, test_set = split_dataset(features)
    model = train_model(train_set)
    accuracy = evaluate_model(model, test_set)
    report(accuracy)
