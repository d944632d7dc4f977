from shared.infra.serve import serve

if __name__ == "__main__":
    serve("notify")
