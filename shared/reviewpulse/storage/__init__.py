"""The one package that talks to the data bucket.

`layout` names every key (pure, no boto3); `inputs` reads input files and hands out presigned
uploads; `result_files` writes, pages, links and deletes result files. Nothing else calls S3.
"""
