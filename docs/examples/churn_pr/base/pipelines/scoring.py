from zenml import pipeline

from steps.data import build_features, load_customers


@pipeline(name="churn_scoring")
def scoring_pipeline():
    customers = load_customers(source="warehouse://crm/fresh")
    build_features(customers)
