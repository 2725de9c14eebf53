from zenml import pipeline

from steps.data import load_customers, make_features


@pipeline(name="churn_scoring")
def scoring_pipeline():
    customers = load_customers(source="warehouse://crm/fresh")
    make_features(customers)
