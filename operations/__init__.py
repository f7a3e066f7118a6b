"""Operations: durable records of everything done to an instance, and the runner."""
