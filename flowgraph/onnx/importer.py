class ImportedModel: pass
def import_model(m): pass
